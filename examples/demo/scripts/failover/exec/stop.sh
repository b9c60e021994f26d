#!/bin/sh
# Runs before clp stops the application's process group (CLP_PID is its pid).
clplogcmd -m "stop your application (CLP_FACTOR=$CLP_FACTOR, pid $CLP_PID)"
