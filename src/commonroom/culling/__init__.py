"""Idle culling: stopping servers nobody uses (or that ran too long), with a warning first.

decide.py holds the pure rules; service.py applies them to the running servers on the hub's schedule.
"""
