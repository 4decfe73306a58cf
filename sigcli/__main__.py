from sigcli.cli import main

main()
