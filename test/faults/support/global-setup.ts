// Before the first fault test: Postgres and Kafka must answer (never skipped), and the faults' own
// database (nestream_faults) is dropped, created and migrated — the e2e suite's global setup, on it.
import './env';
import globalSetup from '../../support/global-setup';

export default globalSetup;
