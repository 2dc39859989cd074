import sys

from pastiche.pastiche import main

if __name__ == "__main__":
    sys.exit(main())
