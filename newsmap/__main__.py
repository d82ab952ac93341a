from newsmap.cli import main

main()
