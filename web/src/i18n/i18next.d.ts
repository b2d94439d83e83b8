import "i18next";

import type fr from "./fr.json";

// Keys are checked at compile time against the French catalogue; a test checks that the
// English one has exactly the same keys.
declare module "i18next" {
  interface CustomTypeOptions {
    defaultNS: "translation";
    resources: { translation: typeof fr };
    returnNull: false;
  }
}
