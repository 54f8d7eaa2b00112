import sys

from commonroom.spawners.zygote.server import main

sys.exit(main(sys.argv[1:]))
