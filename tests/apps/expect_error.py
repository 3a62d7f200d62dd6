#!/usr/bin/env python3
"""Runs a command that must be refused: it passes when the command exits with a small
non-zero status (not a signal: no abort, no segfault) and prints a message naming the
problem. Usage: expect_error.py PROGRAM [ARGS...]"""
import subprocess
import sys

if len(sys.argv) < 2:
    sys.exit("usage: expect_error.py PROGRAM [ARGS...]")
result = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=120)
output = result.stdout + result.stderr
print(output[-2000:])
if result.returncode < 0 or result.returncode >= 128:
    sys.exit(f"expected a clean error exit; the program died (status {result.returncode})")
if result.returncode == 0:
    sys.exit("expected the program to refuse these arguments; it exited 0")
if not result.stderr.strip():
    sys.exit("expected a message naming the error on stderr; the program printed none")
