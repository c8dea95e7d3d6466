-- docker-compose.yml only (up.sh grants the same to its account inline): Debezium's MySQL
-- connector reads MariaDB's binlog with the application account, as a replica, and takes
-- FLUSH TABLES WITH READ LOCK for its consistent snapshot.
GRANT RELOAD, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'legacy_app'@'%';
