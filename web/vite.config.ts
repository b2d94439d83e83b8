/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `make web-dev`: Vite's dev server, with everything that is not the application itself
// (API, runtime configuration, local sign-in) passed to the local stack (`make run`).
const stack = process.env.PATRONUS_STACK_URL ?? "http://127.0.0.1:8080";
const toStack = { target: stack, changeOrigin: false };

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // .vite/manifest.json lets the bundle-size benchmark find what index.html loads first.
    manifest: true,
    target: "es2022",
  },
  server: {
    host: "127.0.0.1",
    port: 5173,
    strictPort: true,
    proxy: {
      "/v1": toStack,
      "/health": toStack,
      "/openapi.json": toStack,
      "/docs": toStack,
      "/config.json": toStack,
      "/oidc": toStack,
    },
  },
  test: {
    include: ["src/**/*.test.{ts,tsx}"],
    environment: "node",
    restoreMocks: true,
  },
});
