// as-pect 8 loads this file with import(), so it is an ES module (package.json has "type": "module").
// The AssemblyScript unit tests cover the filter's pure parts (config parser, header-pair codec,
// sampling, JSON escaping, ids); those modules import no host function, so no stubs are needed.
export default {
  entries: ["assembly/__tests__/**/*.spec.ts"],
  include: ["assembly/__tests__/**/*.include.ts"],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    return instantiate(binary, createImports({ env: { memory } }));
  },
  outputBinary: false,
};
