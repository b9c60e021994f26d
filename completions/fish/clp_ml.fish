complete -c clp_ml -s w -d 'Seconds to wait for each service' -r
complete -c clp_ml -s y -l yes -d 'Answer yes to the question (for scripts)'
complete -c clp_ml -l json -d 'JSON (with status)'
complete -c clp_ml -s h -l help -d 'Print help (see more with \'--help\')'
complete -c clp_ml -s V -l version -d 'Print version'
