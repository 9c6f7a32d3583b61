// setupFiles entry: the faults' defaults first, then the shared e2e settings that read them.
import './env';
import '../../support/test-env';
