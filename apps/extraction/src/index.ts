// Public API of the extraction app.
export { ExtractionModule } from './extraction.module';
export { ExtractionService } from './extraction.service';
export { ExtractionConsumer, EXTRACTION_QUEUE } from './extraction.consumer';
export { ExtractionMetrics } from './extraction.metrics';
