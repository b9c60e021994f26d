complete -c clpstdn -s r -d 'Reboot instead of shutting down'
complete -c clpstdn -s h -l help -d 'Print help'
complete -c clpstdn -s V -l version -d 'Print version'
