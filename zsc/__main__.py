from zsc.cli import main

main()
