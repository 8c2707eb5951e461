from smo_audit.cli import main

main()
