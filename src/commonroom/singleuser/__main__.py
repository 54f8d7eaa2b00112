"""`python -m commonroom.singleuser`: what a spawner runs."""

from commonroom.singleuser.launcher import main

main()
