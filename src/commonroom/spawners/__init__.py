"""Spawners start, watch and stop single-user servers; chosen by name through entry points."""
