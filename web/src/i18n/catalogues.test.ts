import { describe, expect, it } from "vitest";

import { ERROR_KINDS } from "../api/errors";
import en from "./en.json";
import fr from "./fr.json";

interface Tree {
  [key: string]: string | Tree;
}

function leaves(tree: Tree, prefix = ""): Map<string, string> {
  const found = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === "string") {
      found.set(path, value);
    } else {
      leaves(value, path).forEach((text, sub) => found.set(sub, text));
    }
  }
  return found;
}

const placeholders = (text: string) => [...text.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();

describe("the message catalogues", () => {
  const french = leaves(fr);
  const english = leaves(en);

  it("have the same keys in French and in English", () => {
    expect([...english.keys()].sort()).toEqual([...french.keys()].sort());
  });

  it("use the same placeholders in both languages, and no empty text", () => {
    for (const [key, text] of french) {
      expect(text.trim(), key).not.toBe("");
      expect(placeholders(english.get(key) ?? ""), key).toEqual(placeholders(text));
    }
  });

  it("have a message and a next step for every error kind of the API client", () => {
    for (const kind of [...ERROR_KINDS, "unexpected"]) {
      for (const catalogue of [french, english]) {
        expect(catalogue.get(`errors.${kind}.title`), kind).toBeTruthy();
        expect(catalogue.get(`errors.${kind}.next`), kind).toBeTruthy();
      }
    }
  });
});
