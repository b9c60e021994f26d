complete -c clplogcc -s t -d 'What to collect: type1 (default), type2 (wider: rotated system logs, journal, sar), type3 (minimal), proactdiag' -r
complete -c clplogcc -s o -d 'The output folder (default: $CLP_ROOT/tmp)' -r -F
complete -c clplogcc -s r -d 'Rotated generations of the system log to take' -r
complete -c clplogcc -s h -d 'The server to ask: this one (its name, localhost or an address)' -r
complete -c clplogcc -s l -l local -d 'This server only (the only server here; accepted for scripts)'
complete -c clplogcc -l help -d 'Print help'
complete -c clplogcc -s V -l version -d 'Print version'
