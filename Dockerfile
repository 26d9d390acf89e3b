# One image for every SpendOps service; the compose file picks the service with `serve --services NAME`.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
COPY test/support ./test/support
COPY test/bench ./test/bench
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/package.json ./package.json
COPY bin ./bin
COPY apps/pricing/catalog ./apps/pricing/catalog
USER node
EXPOSE 8080
ENTRYPOINT ["node", "bin/spendops"]
CMD ["serve", "--addr", "0.0.0.0:8080"]
