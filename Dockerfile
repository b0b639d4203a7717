# matrix-appservice-webcall
#
# Everything the bridge keeps lives in the /data volume: config.yaml,
# registration.yaml and the embedded store (database.dataDir, default ./data,
# relative to /data). In config.yaml set `appservice.bind: 0.0.0.0` so the
# homeserver can reach the appservice port from outside the container.
#
#   docker run --rm -v $PWD/data:/data IMAGE \
#       -r -u http://webcall-bridge:8090 -c /data/config.yaml -f /data/registration.yaml
#   docker run -d -v $PWD/data:/data -p 8090:8090 -p 9040:9040 IMAGE

FROM node:24-slim AS build
WORKDIR /app
# The override in package.json points the crypto package at stubs/.
COPY package.json package-lock.json ./
COPY stubs ./stubs
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
    && cp -r src/store/migrations dist/src/store/migrations \
    && npm prune --omit=dev --no-audit --no-fund

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/stubs ./stubs
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY bin ./bin
COPY config.sample.yaml ./
# The image's unprivileged `node` user (uid 1000) owns the data volume.
RUN mkdir /data && chown node:node /data
USER node
WORKDIR /data
VOLUME /data
# 8090: appservice (the homeserver pushes here); 9040: the public WebCall listener.
EXPOSE 8090 9040
ENTRYPOINT ["node", "/app/bin/matrix-appservice-webcall.js"]
CMD ["-c", "/data/config.yaml", "-f", "/data/registration.yaml", "-p", "8090"]
