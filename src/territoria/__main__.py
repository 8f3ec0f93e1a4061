from territoria.cli import main

main()
