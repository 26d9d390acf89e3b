// Extraction: consumes capture records, publishes extracted usage. Needs a (global) MESSAGE_BUS provider.
import { Module } from '@nestjs/common';
import { ExtractionConsumer } from './extraction.consumer';
import { ExtractionMetrics } from './extraction.metrics';
import { ExtractionService } from './extraction.service';

@Module({
  providers: [ExtractionMetrics, ExtractionService, ExtractionConsumer],
  exports: [ExtractionService],
})
export class ExtractionModule {}
