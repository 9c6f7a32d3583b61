// Runs the fault scenarios in their numbered order (Jest's default orders by size and past duration).
const Sequencer = require('@jest/test-sequencer').default;

class ByPath extends Sequencer {
  sort(tests) {
    return [...tests].sort((a, b) => a.path.localeCompare(b.path));
  }
}

module.exports = ByPath;
