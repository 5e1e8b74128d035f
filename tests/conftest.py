"""Suite-wide settings: never touch a model hub; assets come from $EXPRBENCH_HOME (see Makefile)."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
