complete -c clplcncs -s I -d 'Register the license key file KEYFILE (with -P, as the original\'s first versions)' -r -F
complete -c clplcncs -s i -d 'Register license key files (later versions\' form; -p optional)' -r -F
complete -c clplcncs -s P -d 'The product id (XSS10, ISAG10, DBAG10, FSAG10, ALRT10, or the original\'s XSSS40, ISAG40, DBAG40, FSAG40, ALRT40): of the key file, of the trial, or, with -l, of the licenses listed' -r
complete -c clplcncs -s d -d 'Delete the license with serial number SERIAL (or with -t every trial, with -a all)' -r
complete -c clplcncs -s l -d 'List the registered licenses'
complete -c clplcncs -s a -d 'All (with -l: accepted; with -d: delete every license)'
complete -c clplcncs -s t -d 'With -d: every trial license'
complete -c clplcncs -l trial -d 'Register the trial license of -P PRODUCT (once per product on this server)'
complete -c clplcncs -l json -d 'JSON instead of the text listing (with -l)'
complete -c clplcncs -s h -l help -d 'Print help'
complete -c clplcncs -s V -l version -d 'Print version'
