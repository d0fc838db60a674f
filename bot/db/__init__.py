"""Storage: engine and units of work, tables, repositories, migrations, FSM storage."""
