#!/bin/sh
# Harness self-test only: never finishes.
sleep 100000
