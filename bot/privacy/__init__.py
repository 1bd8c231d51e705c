"""Privacy and the data lifecycle (issue 13): consent, sealed data and key rotation, /mydata, erasure,
retention, backup and restore, and the HR audit listing. Everything that walks personal data reads the map in
store/personal.py, so a table another capability adds is covered once it is mapped."""
