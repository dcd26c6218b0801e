# The service image used by docker-compose.yml: build once, run `node dist/src/main.js`.
# node:20 (not -slim) because zstd-napi compiles a native addon during `npm ci`.
FROM node:20-bookworm
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
COPY bench ./bench
RUN npm run build && npm prune --omit=dev
ENV NODE_ENV=production DATA_DIR=/var/lib/cinder-backup
VOLUME /var/lib/cinder-backup
EXPOSE 8776 8790
CMD ["node", "dist/src/main.js"]
