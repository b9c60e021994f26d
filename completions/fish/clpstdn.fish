complete -c clpstdn -s h -d 'The server to ask: this one (its name, localhost or an address)' -r
complete -c clpstdn -s r -d 'Reboot instead of shutting down'
complete -c clpstdn -l help -d 'Print help'
complete -c clpstdn -s V -l version -d 'Print version'
