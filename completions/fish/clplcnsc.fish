complete -c clplcnsc -s I -d 'Register the license key file KEYFILE (with -P, as the original\'s first versions)' -r -F
complete -c clplcnsc -s i -d 'Register license key files (later versions\' form; -p optional)' -r -F
complete -c clplcnsc -s P -d 'The product id (XSS10, ISAG10, DBAG10, FSAG10, ALRT10, or the original\'s XSSS40, ISAG40, DBAG40, FSAG40, ALRT40): of the key file, of the trial, or, with -l, of the licenses listed' -r
complete -c clplcnsc -s d -d 'Delete the license with serial number SERIAL (or with -t every trial, with -a all)' -r
complete -c clplcnsc -s l -d 'List the registered licenses'
complete -c clplcnsc -s a -d 'All (with -l: accepted; with -d: delete every license)'
complete -c clplcnsc -s t -d 'With -d: every trial license'
complete -c clplcnsc -l trial -d 'Register the trial license of -P PRODUCT (once per product on this server)'
complete -c clplcnsc -l json -d 'JSON instead of the text listing (with -l)'
complete -c clplcnsc -s h -l help -d 'Print help'
complete -c clplcnsc -s V -l version -d 'Print version'
