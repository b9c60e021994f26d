#!/bin/sh
# The demo application: logs how it was started, then runs until stopped.
clplogcmd -m "start your application (CLP_EVENT=$CLP_EVENT)"
exec sleep 2147483647
