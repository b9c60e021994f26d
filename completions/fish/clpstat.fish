complete -c clpstat -l sv -d 'A server\'s configuration' -r
complete -c clpstat -l hb -d 'A heartbeat\'s configuration' -r
complete -c clpstat -l grp -d 'A group\'s configuration' -r
complete -c clpstat -l rsc -d 'A resource\'s configuration' -r
complete -c clpstat -l mon -d 'A monitor\'s configuration' -r
complete -c clpstat -s h -d 'The server to ask: this one (its name, localhost or an address)' -r
complete -c clpstat -s s -d 'The status summary (the default)'
complete -c clpstat -l long -d 'Wide name columns, never cut'
complete -c clpstat -s g -d 'The group map'
complete -c clpstat -s m -d 'The monitor status map'
complete -c clpstat -s i -d 'The configuration of everything'
complete -c clpstat -l cl -d 'The cluster\'s configuration'
complete -c clpstat -l detail -d 'Every parameter (with -i and the object options)'
complete -c clpstat -l json -d 'JSON instead of the text layout'
complete -c clpstat -l help -d 'Print help'
complete -c clpstat -s V -l version -d 'Print version'
