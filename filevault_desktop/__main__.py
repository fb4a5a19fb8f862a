from filevault_desktop.cli.main import main

main()
