from newsmap.cli import main

main(prog_name="newsmap")
