# matrix-appservice-webcall
#
# Everything the bridge keeps lives in the /data volume: config.yaml,
# registration.yaml and the embedded store (database.dataDir, default ./data,
# that is /data/data). The README's "Docker" section has the steps:
# config.yaml with `appservice.bind: 0.0.0.0`, `-r` to write the
# registration, then the bridge.

FROM node:24-slim AS build
WORKDIR /app
# The same commands as CI (.ci/run): npm ci on the committed lock, then the
# build. The lock links @matrix-org/matrix-sdk-crypto-nodejs to stubs/ (the
# override in package.json), so stubs/ must be there for npm ci.
COPY package.json package-lock.json ./
COPY stubs ./stubs
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
    && npm prune --omit=dev --no-audit --no-fund

# The npm package's layout (package.json "files"): dist/src, the SQL
# migrations in src/store/migrations, the call link page's static files in
# src/webcall/callPage/assets, stubs/, bin/, config.sample.yaml.
FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY src/store/migrations ./src/store/migrations
COPY src/webcall/callPage/assets ./src/webcall/callPage/assets
COPY stubs ./stubs
COPY bin ./bin
COPY config.sample.yaml ./
# The image's unprivileged `node` user owns the data volume (by uid, so that
# a runtime checking runAsNonRoot can tell); the bridge refuses a data
# directory that group or others can open.
RUN mkdir -m 700 /data && chown node:node /data
USER 1000:1000
WORKDIR /data
VOLUME /data
# 8090: appservice (the homeserver pushes here); 9040: the public WebCall listener.
EXPOSE 8090 9040
ENTRYPOINT ["node", "/app/bin/matrix-appservice-webcall.js"]
CMD ["-c", "/data/config.yaml", "-f", "/data/registration.yaml", "-p", "8090"]
