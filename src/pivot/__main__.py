from pivot.cli import main

main.main()
