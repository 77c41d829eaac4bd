# polyproxy image: build with the dev toolchain, run with production dependencies only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY scripts/gen-schema.mjs scripts/
COPY src src
COPY config config
# Bun (opt-in: `--entrypoint bun`, see README "Runtime") comes with the `bun` dev dependency for this platform,
# kept before the dev dependencies are pruned.
RUN npm run build && cp node_modules/bun/bin/bun.exe /usr/local/bin/bun && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY --from=build /app/config config
COPY --from=build /usr/local/bin/bun /usr/local/bin/bun
USER node
# Clients (PostgreSQL protocol) and the admin HTTP address (/metrics, /healthz, /readyz).
EXPOSE 6432 9930
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9930/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# `--entrypoint bun` with `dist/cli.js …` runs the same image on Bun.
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["--config", "/etc/polyproxy/polyproxy.yaml"]
