complete -c clp_mlftp -s h -l help -d 'Print help'
complete -c clp_mlftp -s V -l version -d 'Print version'
