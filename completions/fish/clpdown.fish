complete -c clpdown -s r -d 'Reboot instead of shutting down'
complete -c clpdown -s h -l help -d 'Print help'
complete -c clpdown -s V -l version -d 'Print version'
