"""Helpers of the property tests that corrupt one field of a JSON document (imported as a plain module)."""


def leaves(node, path=()):
    """Every leaf field's path in a JSON document (dict keys and list indices)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, (*path, key))
    elif isinstance(node, list) and node:
        for i, value in enumerate(node):
            yield from leaves(value, (*path, i))
    else:
        yield path


def set_field(node, path, value):
    """Set the field at ``path`` in place."""
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
