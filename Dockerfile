# live-crew: the CLI and the examples, for `docker compose up` (see docker-compose.yml).
# Build stage: compile with the dev tools.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY examples ./examples
COPY bench ./bench
COPY templates ./templates
COPY ui ./ui
RUN npm run build

# Runtime stage: production dependencies only, run as a non-root user.
FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --from=build /app/templates ./templates
COPY --from=build /app/examples/match-day/dist ./examples/match-day/dist
COPY --from=build /app/examples/match-day/events.jsonl ./examples/match-day/events.jsonl
USER node
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["--help"]
