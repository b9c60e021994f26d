complete -c clppm -l requested-by -d 'The command that asked for the start, for the alert log' -r
complete -c clppm -l foreground -d 'Run in the foreground (logs also to stderr); without it the daemon detaches'
complete -c clppm -l detached -d 'Started by a command that waits for it: stop writing to stderr once ready'
complete -c clppm -s h -l help -d 'Print help'
complete -c clppm -s V -l version -d 'Print version'
