# The service image used by docker-compose.yml: build once, run `node dist/src/main.js`.
# node:22 (not -slim) because zstd-napi compiles a native addon during `npm ci` when no prebuild fits.
FROM node:22-bookworm
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
COPY bench ./bench
COPY console ./console
RUN npm run build && npm prune --omit=dev
ENV NODE_ENV=production DATA_DIR=/var/lib/cinder-backup
# Runs as the image's unprivileged `node` user: it owns only its data directory.
RUN mkdir -p /var/lib/cinder-backup && chown node:node /var/lib/cinder-backup
USER node
VOLUME /var/lib/cinder-backup
EXPOSE 8776 8790
CMD ["node", "dist/src/main.js"]
