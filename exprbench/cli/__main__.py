from exprbench.cli.main import main

main()
