// shadowmesh proxy-wasm filter (ABI 0.2.1). The module's exports are the ABI
// layer's; the filter registers its root context class.
import { setRootFactory } from "./abi/context";
import { createShadowRoot } from "./filter/plugin";

export * from "./abi/exports";

setRootFactory(createShadowRoot);
