from pivot.cli import entry

entry.main()
