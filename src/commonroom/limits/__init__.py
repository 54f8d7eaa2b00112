"""Resource limits of people's servers (CPU, memory, processes, disk), enforced by the best means the machine has."""
