complete -c clp_mlftp -s n -l name -d 'The file\'s name on the server (default: the file\'s name with the server\'s name and the time it was written, such as <server>-log-<YYYYMMDD-HHMMSS>.tar.gz, so that each upload is kept)' -r
complete -c clp_mlftp -s h -l help -d 'Print help'
complete -c clp_mlftp -s V -l version -d 'Print version'
