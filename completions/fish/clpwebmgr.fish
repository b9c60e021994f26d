complete -c clpwebmgr -l listen -d 'Listen on ADDR (host:port) instead of [webmanager] listen' -r
complete -c clpwebmgr -l set-password -d 'Set the operation or the reference password ("-": read it from standard input)' -r
complete -c clpwebmgr -l clear-password -d 'Remove the operation or the reference password' -r
complete -c clpwebmgr -l foreground -d 'Serve in the foreground (logs also to stderr); without it clpwebmgr detaches'
complete -c clpwebmgr -l stop -d 'Stop the running clpwebmgr'
complete -c clpwebmgr -l detached -d 'Started by a command that waits for it: stop writing to stderr once ready'
complete -c clpwebmgr -s h -l help -d 'Print help'
complete -c clpwebmgr -s V -l version -d 'Print version'
