from landgeo.cli import main

main()
