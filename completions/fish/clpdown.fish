complete -c clpdown -s h -d 'The server to ask: this one (its name, localhost or an address)' -r
complete -c clpdown -s r -d 'Reboot instead of shutting down'
complete -c clpdown -l help -d 'Print help'
complete -c clpdown -s V -l version -d 'Print version'
